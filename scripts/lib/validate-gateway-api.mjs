// Validates Gateway API resources (JSON array on stdin) against the CRD schemas that the
// npm package @kubernetes-models/gateway-api ships. Used by scripts/check-deploy.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

// The package lives in the tools cache, not in a node_modules beside this file.
const pkg = join(process.env.DEPLOY_TOOLS_NODE, "node_modules/@kubernetes-models/gateway-api");
const v1 = await import(pathToFileURL(join(pkg, "gateway.networking.k8s.io/v1/index.js")).href);

const docs = JSON.parse(readFileSync(0, "utf8"));
let failed = 0;
for (const doc of docs) {
  const Model = doc.apiVersion === "gateway.networking.k8s.io/v1" ? v1[doc.kind] : undefined;
  const id = `${doc.kind}/${doc.metadata?.name}`;
  if (!Model) {
    console.error(`  ✗ ${id}: no schema for ${doc.apiVersion} ${doc.kind}`);
    failed++;
    continue;
  }
  try {
    new Model(doc).validate();
    console.log(`  ✓ ${id}`);
  } catch (e) {
    console.error(`  ✗ ${id}: ${e.message}`);
    failed++;
  }
}
process.exit(failed ? 1 : 0);
