import { createServer } from "node:http";

/** The physical limit on this runtime: read the body, JSON.parse it, answer 200. */
const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (chunk: Buffer) => chunks.push(chunk));
  req.on("end", () => {
    JSON.parse(Buffer.concat(chunks).toString("utf8"));
    const body = '{"status":"accepted"}';
    res.writeHead(200, { "Content-Type": "application/json", "Content-Length": body.length });
    res.end(body);
  });
});
server.listen(Number(process.env["PORT"] ?? 0), () => {
  const address = server.address();
  process.stdout.write(`{"port":${typeof address === "object" && address ? address.port : 0}}\n`);
});
