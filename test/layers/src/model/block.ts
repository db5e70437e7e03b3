import { view } from '../ui/view';

export const width = view.length;
