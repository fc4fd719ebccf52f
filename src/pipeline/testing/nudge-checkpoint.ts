// A stand-in external trainer for the external-update test: reads RLAIF_BASE_MODEL, adds 0.01 to every value of one
// parameter (argv[2]) and writes the result to RLAIF_OUTPUT; copies the preference file beside it so the test can
// read what it was given. Test-only.
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadPretrained, savePretrained } from '../../models/checkpoint.ts';

const { RLAIF_BASE_MODEL: base, RLAIF_OUTPUT: output, RLAIF_PREFERENCES: preferences } = process.env;
const model = loadPretrained(base!);
const tensor = model.parameters.get(process.argv[2]!)!;
for (let i = 0; i < tensor.data.length; i++) tensor.data[i] += 0.01;
savePretrained(output!, model.config, model.parameters);
copyFileSync(preferences!, join(output!, 'given-preferences.jsonl'));
console.log(`nudged ${process.argv[2]}`);
