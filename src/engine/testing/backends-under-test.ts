// Test helper: every non-js backend that loads here, and every other CPU level of the native one, to compare against
// the js reference; optionally the native backend with its bf16 kernel forced to the plain path. Leaves out: js.
import type { Backend } from '../backend.ts';
import { availableBackends, loadBackend } from '../backends/index.ts';
import { createNativeBackend, nativeCpuLevels } from '../backends/native-backend.ts';

/** [label, backend] pairs: 'wasm', 'native', 'native/<level>' for each other level (and the plain-bf16 native). */
export function backendsUnderTest(options: { plainBf16?: boolean } = {}): [string, Backend][] {
  const list: [string, Backend][] = [];
  for (const name of availableBackends()) {
    if (name === 'js') continue;
    list.push([name, loadBackend(name)]);
    if (name !== 'native') continue;
    const current = (loadBackend(name) as Backend & { cpu: string }).cpu;
    for (const level of nativeCpuLevels()) if (level !== current) list.push([`native/${level}`, createNativeBackend(level)]);
    if (!options.plainBf16) continue;
    const plain = createNativeBackend(undefined, { nativeBf16: false });
    if ((loadBackend(name) as Backend & { bf16Kernel: string }).bf16Kernel !== plain.bf16Kernel) {
      list.push([`native/${plain.cpu} bf16 ${plain.bf16Kernel}`, plain]);
    }
  }
  return list;
}
