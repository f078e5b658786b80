import { afterEach, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { dedupYaml } from "../../console/src/dedup-yaml.js";
import { createConfigLoader } from "../../src/config/load.js";
import { flatten } from "../../src/ingest/flatten.js";
import { builtinRegistry } from "../../src/nodes/registry.js";
import { ENDPOINT_A, integrationYaml, tempProject, type TempProject } from "../helpers/temp-project.js";

/** Keys that flatten into bracketed paths, and header names with token characters YAML reads specially. */
const AWKWARD_REQUEST = {
  body: {
    "a.b": 1,
    "x: y # z": 2,
    'it\'s "quoted"': 3,
    "tab\there": 4,
    "\u0085nel\u009fc1": 5,
    "- [list] {map} & *alias ! |": 6,
  },
  headers: { "X-Request-ID": "r1", "x-odd!#$%&'*+^`|~": "v" },
};

describe("the dedup: block the console builds from picked paths", () => {
  let project: TempProject | undefined;
  afterEach(() => project?.cleanup());

  it("writes simple paths bare, in the order they were picked", () => {
    expect(dedupYaml(["body.order_number", "headers.x-request-id"])).toBe(
      "dedup:\n  params:\n    - body.order_number\n    - headers.x-request-id\n",
    );
  });

  it("keeps the integration's ttl", () => {
    expect(dedupYaml(["body.id"], { ttl: "1d" })).toBe("dedup:\n  params:\n    - body.id\n  ttl: 1d\n");
  });

  it("quotes every path YAML would misread, so the block parses back to the exact paths", () => {
    const paths = Object.keys(flatten(AWKWARD_REQUEST));
    expect(paths).toContain('body["a.b"]');
    for (const path of paths) {
      expect(parse(dedupYaml([path]))).toEqual({ dedup: { params: [path] } });
    }
  });

  it("gives a block that inlet validate accepts in an integration file", async () => {
    const paths = Object.keys(flatten(AWKWARD_REQUEST)).slice(0, 5);
    project = await tempProject({
      "integrations/shop.yaml": integrationYaml({
        id: "shop",
        endpoint: ENDPOINT_A,
        extra: dedupYaml(paths),
      }),
    });
    const result = await createConfigLoader(builtinRegistry).load(project.dir);
    expect(result.ok ? [] : result.diagnostics).toEqual([]);
  });
});
