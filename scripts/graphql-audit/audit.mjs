#!/usr/bin/env node
// Proves a GraphQL endpoint speaks GraphQL over HTTP and serves a schema JavaScript clients can load.
//
// 1. Runs every server audit of the `graphql-http` package (the GraphQL-over-HTTP reference suite)
//    against the URL and prints each result.
// 2. Fetches the standard introspection query result and loads it with graphql-js
//    `buildClientSchema` + `assertValidSchema`, as GraphiQL and code generators do.
//
// Usage: node audit.mjs http://127.0.0.1:8080/graphql   (or GRAPHQL_URL=... node audit.mjs)
// Exit status: 0 when every MUST and SHOULD audit passes and the schema builds; 1 otherwise;
// 2 on bad usage. The last line is always `N passed, M failed` (audits plus the schema check;
// MAY audits that fail count as failed but, being optional, do not change the exit status).

import { serverAudits } from 'graphql-http';
import { assertValidSchema, buildClientSchema, getIntrospectionQuery } from 'graphql';

const url = process.argv[2] ?? process.env.GRAPHQL_URL;
if (!url) {
  console.error('usage: node audit.mjs <graphql-url>   (or set GRAPHQL_URL)');
  process.exit(2);
}

// One stuck request must not hang a CI job forever.
const TIMEOUT_MS = 10_000;
const fetchWithTimeout = (input, init = {}) =>
  fetch(input, { ...init, signal: AbortSignal.timeout(TIMEOUT_MS) });

let passed = 0;
let failed = 0;
let blocking = 0;

console.log(`Auditing ${url}`);
// Sequential on purpose: readable output and no load spikes on a shared server.
for (const audit of serverAudits({ url, fetchFn: fetchWithTimeout })) {
  let result;
  try {
    result = await audit.fn();
  } catch (error) {
    // graphql-http throws only on fatal errors (server down, timeout): count it as a hard failure.
    result = { status: 'error', reason: `audit could not run: ${error?.message ?? error}` };
  }
  if (result.status === 'ok') {
    passed += 1;
    console.log(`PASS  ${audit.id}  ${audit.name}`);
    continue;
  }
  failed += 1;
  const optional = audit.name.startsWith('MAY') && result.status !== 'error';
  if (!optional) blocking += 1;
  const status = result.response ? ` (HTTP ${result.response.status})` : '';
  console.log(`FAIL  ${audit.id}  ${audit.name}${optional ? '  [optional]' : ''}`);
  console.log(`      ${result.reason}${status}`);
}

// The schema check: the JSON a JavaScript client receives must build a valid graphql-js schema.
try {
  const response = await fetchWithTimeout(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json, application/json;q=0.9',
    },
    body: JSON.stringify({ query: getIntrospectionQuery() }),
  });
  const result = await response.json();
  if (!response.ok || result.errors?.length || !result.data) {
    const messages = (result.errors ?? []).map((error) => error.message).join('; ');
    throw new Error(`introspection failed: HTTP ${response.status}${messages ? `: ${messages}` : ''}`);
  }
  const schema = buildClientSchema(result.data);
  assertValidSchema(schema);
  const typeCount = Object.keys(schema.getTypeMap()).length;
  passed += 1;
  console.log(`PASS  schema  introspection builds a valid graphql-js schema with ${typeCount} types`);
} catch (error) {
  failed += 1;
  blocking += 1;
  console.log('FAIL  schema  introspection does not build a valid graphql-js schema');
  console.log(`      ${error?.message ?? error}`);
}

console.log(`${passed} passed, ${failed} failed`);
process.exit(blocking > 0 ? 1 : 0);
