/** Node convenience: open a VTAB-1k task from a folder, zip or URL with the Node decoder. */
import { nodeDecoder } from './decode.node.js';
import { openNodeSource } from './source.node.js';
import { type OpenVtabOptions, type VtabSplits, openVtabTask } from './vtab';
import type { VtabTask } from './catalog';

export async function openVtabTaskFromPath(pathOrUrl: string, task: VtabTask | string, options: OpenVtabOptions = {}): Promise<VtabSplits> {
  const source = await openNodeSource(pathOrUrl);
  return openVtabTask(source, task, { decoder: nodeDecoder, ...options });
}
