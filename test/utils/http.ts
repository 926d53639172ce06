import { request as httpRequest } from 'node:http';

export interface HttpResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** Header name (lower case) → every line sent with that name, in order. */
  headerLines: Record<string, string[]>;
  body: Buffer;
  text: string;
}

export interface HttpOptions {
  method?: string;
  headers?: Record<string, string | string[] | number>;
  body?: string | Buffer;
  /** Send the body in chunks without Content-Length (chunked transfer encoding). */
  chunked?: boolean;
}

/** One HTTP request over loopback; the response with every header line kept apart. */
export function http(url: string, options: HttpOptions = {}): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const headers = { ...options.headers };
    let answered = false;
    const req = httpRequest(
      url,
      { method: options.method ?? 'GET', headers, agent: false },
      res => {
        answered = true;
        const chunks: Buffer[] = [];
        res.on('data', chunk => chunks.push(chunk));
        res.on('end', () => {
          const headerLines: Record<string, string[]> = {};
          for (let i = 0; i < res.rawHeaders.length; i += 2) {
            (headerLines[res.rawHeaders[i].toLowerCase()] ??= []).push(res.rawHeaders[i + 1]);
          }
          const body = Buffer.concat(chunks);
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            headerLines,
            body,
            text: body.toString('utf8'),
          });
        });
        res.on('error', reject);
      },
    );
    // A server may answer (e.g. 413) and close before the whole body is sent: keep its answer.
    req.on('error', error => {
      if (!answered) reject(error);
    });
    if (options.body !== undefined) {
      if (options.chunked) {
        const bytes = Buffer.isBuffer(options.body) ? options.body : Buffer.from(options.body);
        const step = 64 * 1024;
        for (let i = 0; i < bytes.length; i += step) req.write(bytes.subarray(i, i + step));
      } else {
        // As bytes: Node writes the headers with a first *string* chunk in that chunk's encoding
        // (UTF-8), which would garble Latin-1 header values.
        const bytes = Buffer.isBuffer(options.body) ? options.body : Buffer.from(options.body);
        req.setHeader('content-length', bytes.length);
        req.write(bytes);
      }
    }
    req.end();
  });
}
