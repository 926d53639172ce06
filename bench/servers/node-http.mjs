// The limit: a bare node:http server doing the same work by hand (HMAC-check ce-signature with
// node:crypto, read the body, JSON.parse system events, answer the same status and body).
import { createServer } from 'node:http';
import { handWrittenAnswer, handWrittenHandshake, PATH, readBody } from '../lib/common.mjs';
import { ready } from '../lib/server-harness.mjs';

function send(response, answer) {
  response.statusCode = answer.status;
  for (const name in answer.headers) response.setHeader(name, answer.headers[name]);
  if (answer.contentType) response.setHeader('content-type', answer.contentType);
  response.end(answer.body);
}

const server = createServer(async (request, response) => {
  const path = request.url.split('?', 1)[0];
  if (path !== PATH && !path.startsWith(`${PATH}/`)) return send(response, { status: 404 });
  if (request.method === 'OPTIONS') return send(response, handWrittenHandshake(request.headers));
  if (request.method !== 'POST') return send(response, { status: 405 });
  try {
    send(response, handWrittenAnswer(request.headers, await readBody(request)));
  } catch {
    send(response, { status: 400 });
  }
});
server.listen(0, '127.0.0.1', () => {
  ready(server.address().port, () => new Promise(resolve => server.close(() => resolve())));
});
