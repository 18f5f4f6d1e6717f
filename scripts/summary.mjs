// Adds up both runners' JSON reports and prints the one line CI reads.
import { existsSync, readFileSync } from 'node:fs';

const [failedStepCount, ...failedSteps] = process.argv.slice(2);
let passed = 0;
let failed = 0;

if (existsSync('.reports/unit.json')) {
  const unit = JSON.parse(readFileSync('.reports/unit.json', 'utf8'));
  passed += unit.numPassedTests;
  failed += unit.numFailedTests;
  console.log(`unit: ${unit.numPassedTests} passed, ${unit.numFailedTests} failed`);
}

if (existsSync('.reports/e2e.json')) {
  const e2e = JSON.parse(readFileSync('.reports/e2e.json', 'utf8'));
  const s = e2e.stats;
  passed += s.expected;
  failed += s.unexpected + s.flaky;
  console.log(`e2e: ${s.expected} passed, ${s.unexpected + s.flaky} failed`);
}

// A failed check (type check, lint, format, build) or a runner that died before its report
// counts as one failure of its own; failing tests are already counted by their runner.
const steps = Number(failedStepCount);
const stepFailures = failedSteps.filter(
  (name) => !(name.startsWith('unit') && failed > 0) && !(name.startsWith('e2e') && failed > 0),
);
for (const name of failedSteps) console.log(`FAILED step: ${name}`);
if (passed + failed === 0) console.log('no test ran');
console.log(`${passed} passed, ${failed + stepFailures.length} failed`);
process.exit(steps > 0 || failed > 0 || passed === 0 ? 1 : 0);
