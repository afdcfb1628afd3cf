// `npm run check`: docs/openapi.yaml must be a valid OpenAPI 3.1 document (YAML that means what it says,
// every $ref resolving, every schema well-formed), as the tools that read it (Swagger UI, Redoc, client
// generators) will judge it.
import path from "node:path";
import SwaggerParser from "@apidevtools/swagger-parser";
import { ROOT } from "../bin/sources.js";

const file = path.join(ROOT, "docs/openapi.yaml");
try {
  const api = await SwaggerParser.validate(file);
  console.log(
    `${path.relative(ROOT, file)}: valid OpenAPI ${api.openapi}, ${Object.keys(api.paths ?? {}).length} paths`,
  );
} catch (err) {
  console.error(`${path.relative(ROOT, file)}: ${err.message}`);
  process.exit(1);
}
