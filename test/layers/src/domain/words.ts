import { width } from '../model/block';

export const label = `width ${width}`;
