// The adapter protocol of spec/clients/protocol.py, the JavaScript side: one JSON
// object a line on standard output, written as soon as the client hands it over
// (process.stdout is synchronous on a pipe, so the order and the flush hold),
// and the two query parameters of the URL an adapter is given.

import { createRequire } from "node:module";

const require = createRequire(import.meta.url);

function say(value) {
  process.stdout.write(JSON.stringify(value) + "\n");
}

/** The installed version of the npm package `name` (from its package.json). */
export function version(name) {
  return require(`${name}/package.json`).version;
}

/** The URL's `types` (the event types the case can dispatch) and `reconnect` (let the
 * client reconnect: the client chapter's reconnection cases). */
export function options(url) {
  const query = new URL(url).searchParams;
  return {
    types: (query.get("types") ?? "message").split(","),
    reconnect: query.get("reconnect") === "1",
  };
}

export const emit = {
  hello: (client, observes = []) => say({ client, observes: [...observes].sort() }),
  event: (type, data, lastEventId) => say({ event: { type, data, lastEventId } }),
  retry: (milliseconds) => say({ retry: milliseconds }),
  failed: (reason) => say({ failed: reason }),
  end: (how = "closed") => say({ end: how }),
};

/** Print the last line and exit (stdout is written synchronously, nothing is lost). */
export function finish(line) {
  line();
  process.exit(0);
}
