// Compiles contracts/Tokens.sol with solc-js into contracts/Tokens.json (ABI and
// bytecode per contract). Tests read the JSON, so they never compile at run time.
// Run: node tests/node/compile.js
const fs = require("fs");
const path = require("path");
const solc = require("solc");

const source = path.join(__dirname, "contracts", "Tokens.sol");
const input = {
  language: "Solidity",
  sources: { "Tokens.sol": { content: fs.readFileSync(source, "utf8") } },
  settings: {
    // Paris: no PUSH0, so any node the tests use can run the bytecode.
    evmVersion: "paris",
    optimizer: { enabled: true, runs: 200 },
    outputSelection: { "*": { "*": ["abi", "evm.bytecode.object"] } },
  },
};
const output = JSON.parse(solc.compile(JSON.stringify(input)));
const errors = (output.errors || []).filter((e) => e.severity === "error");
if (errors.length) {
  for (const e of errors) console.error(e.formattedMessage);
  process.exit(1);
}
const result = { compiler: solc.version(), contracts: {} };
for (const [name, c] of Object.entries(output.contracts["Tokens.sol"])) {
  result.contracts[name] = { abi: c.abi, bytecode: "0x" + c.evm.bytecode.object };
}
fs.writeFileSync(
  path.join(__dirname, "contracts", "Tokens.json"),
  JSON.stringify(result, null, 1) + "\n",
);
console.log(`compiled ${Object.keys(result.contracts).join(", ")} with solc ${result.compiler}`);
