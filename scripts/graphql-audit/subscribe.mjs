#!/usr/bin/env node
// Proves the public `graphql-ws` client (graphql-transport-ws protocol) can subscribe to the server.
//
// 1. Connects to the WebSocket endpoint beside the HTTP one (`http://HOST/graphql` → `ws://HOST/graphql/ws`)
//    with graphql-ws `createClient`, the token (if any) sent in `connection_init` as
//    `{"Authorization": "Bearer TOKEN"}`, and subscribes to `syncCompleted { id outcome }`.
// 2. Once connected, triggers `mutation { syncNow { id } }` over HTTP with the same token, again every 2 s
//    until an event arrives: the protocol has no acknowledgement of `subscribe`, so the first sync may finish
//    before the server has registered the subscription.
// 3. Prints the first event as JSON on one line and exits 0; exits 1 on an error or when nothing arrives
//    within 15 s; 2 on bad usage.
//
// Usage: node subscribe.mjs http://127.0.0.1:8080/graphql [TOKEN]

import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const TIMEOUT_MS = 15_000;
const RETRIGGER_MS = 2_000;

const [url, token] = process.argv.slice(2);
if (!url || !/^https?:\/\//.test(url)) {
  console.error('usage: node subscribe.mjs <http(s)://host/graphql> [token]');
  process.exit(2);
}
const wsUrl = url.replace(/^http/, 'ws').replace(/\/$/, '') + '/ws';
const authorization = token ? { Authorization: `Bearer ${token}` } : {};

function fail(message) {
  console.error(`subscribe.mjs: ${message}`);
  process.exit(1);
}

async function syncNow() {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', ...authorization },
    body: JSON.stringify({ query: 'mutation { syncNow { id } }' }),
  });
  const body = await response.json();
  if (!response.ok || body.errors) {
    throw new Error(`syncNow failed: HTTP ${response.status} ${JSON.stringify(body)}`);
  }
  return body.data.syncNow.id;
}

const triggered = new Set();
const pending = [];
let retrigger;
const timeout = setTimeout(() => fail(`no syncCompleted event within ${TIMEOUT_MS / 1000} s`), TIMEOUT_MS);

const client = createClient({
  url: wsUrl,
  webSocketImpl: WebSocket,
  connectionParams: authorization,
  retryAttempts: 0,
  on: {
    connected: () => {
      const trigger = () =>
        pending.push(
          syncNow()
            .then((id) => triggered.add(id))
            .catch((err) => fail(err.message)),
        );
      trigger();
      retrigger = setInterval(trigger, RETRIGGER_MS);
    },
    closed: (event) => {
      // A close before any event (refused connection_init, server gone) is a failure.
      if (event && event.code !== 1000) fail(`socket closed: ${event.code} ${event.reason ?? ''}`);
    },
  },
});

client.subscribe(
  { query: 'subscription { syncCompleted { id outcome } }' },
  {
    next: async (result) => {
      if (result.errors) fail(`subscription error: ${JSON.stringify(result.errors)}`);
      const run = result.data.syncCompleted;
      clearInterval(retrigger);
      // The event may overtake the mutation's own answer: let the answers in before reporting.
      await Promise.all(pending);
      clearTimeout(timeout);
      console.log(JSON.stringify({ event: run, triggered: [...triggered] }));
      await client.dispose();
      process.exit(0);
    },
    error: (err) =>
      fail(`subscription failed: ${err?.message ?? (err?.code ? `close ${err.code} ${err.reason}` : JSON.stringify(err))}`),
    complete: () => {},
  },
);
