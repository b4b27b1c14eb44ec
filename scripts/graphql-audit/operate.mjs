#!/usr/bin/env node
// Runs queries and mutations over the WebSocket endpoint with the public `graphql-ws` client, as Apollo and
// urql do when every operation goes through their WebSocket link.
//
// Reads a JSON array of operations (`{"query": …, "variables": …}`) on stdin, runs them one after another
// over one connection (the token, if any, sent in `connection_init` as `{"Authorization": "Bearer TOKEN"}`),
// and prints a JSON array of their results (`{"data": …, "errors": …}`, in order) on one line. Exits 1 when
// the connection fails or closes before every result is in, or after 15 s; 2 on bad usage.
//
// Usage: node operate.mjs http://127.0.0.1:8080/graphql [TOKEN] < operations.json

import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const TIMEOUT_MS = 15_000;

const [url, token] = process.argv.slice(2);
if (!url || !/^https?:\/\//.test(url)) {
  console.error('usage: node operate.mjs <http(s)://host/graphql> [token] < operations.json');
  process.exit(2);
}
const wsUrl = url.replace(/^http/, 'ws').replace(/\/$/, '') + '/ws';

function fail(message) {
  console.error(`operate.mjs: ${message}`);
  process.exit(1);
}

let input = '';
for await (const chunk of process.stdin) input += chunk;
const operations = JSON.parse(input);
if (!Array.isArray(operations)) fail('stdin must hold a JSON array of operations');

setTimeout(() => fail(`not every result arrived within ${TIMEOUT_MS / 1000} s`), TIMEOUT_MS).unref();

const client = createClient({
  url: wsUrl,
  webSocketImpl: WebSocket,
  connectionParams: token ? { Authorization: `Bearer ${token}` } : {},
  retryAttempts: 0,
  lazy: false,
  on: {
    closed: (event) => {
      if (event && event.code !== 1000) fail(`socket closed: ${event.code} ${event.reason ?? ''}`);
    },
  },
});

function run(operation) {
  return new Promise((resolve, reject) => {
    let result;
    client.subscribe(operation, {
      next: (value) => {
        result = value;
      },
      // A GraphQL error list arrives as `next` with `errors`; `error` is the protocol's `error` message
      // (a document that does not validate) or a closed socket.
      error: (err) =>
        Array.isArray(err) ? resolve({ errors: err }) : reject(new Error(err?.reason ?? String(err?.code ?? err))),
      complete: () => resolve(result),
    });
  });
}

const results = [];
try {
  for (const operation of operations) results.push(await run(operation));
} catch (err) {
  fail(err.message);
}
console.log(JSON.stringify(results));
await client.dispose();
process.exit(0);
