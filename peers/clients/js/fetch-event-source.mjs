// @microsoft/fetch-event-source: `node fetch-event-source.mjs URL`.
//
// `fetchEventSource(url, {onmessage})` as its README shows, on Node's own
// fetch. The library was written for browsers: it calls `window.setTimeout`,
// `window.fetch` and, when it is done, `document.removeEventListener`, so the
// adapter lets `window` be the global object and gives `document` the two
// no-op listener methods (with `openWhenHidden: true`, the page's visibility
// plays no part). It adds no check: the library's own `onopen` (a
// Content-Type that starts with `text/event-stream`) and its retry schedule
// are what is judged.
//
// Each message's `event` is its event field, empty without one, which the
// protocol names `message`; its `id` is its own id field (empty without one),
// reported as the last event id; its `retry` is the value the library took
// for its reconnection time, reported before the message. Without
// `reconnect=1` an error ends the run (`onerror` rethrows, which the library
// takes as "stop"); with it the library retries as it does by default. The
// promise settles when the library stops: resolved after a response that
// ended ("end"), rejected ("failed").

globalThis.window = globalThis;
globalThis.document = { hidden: false, addEventListener() {}, removeEventListener() {} };

import { fetchEventSource } from "@microsoft/fetch-event-source";
import { emit, finish, options, version } from "./protocol.mjs";

const url = process.argv[2];
const { reconnect } = options(url);
emit.hello(`@microsoft/fetch-event-source ${version("@microsoft/fetch-event-source")}`, [
  "reconnect",
  "retry",
]);

fetchEventSource(url, {
  openWhenHidden: true,
  onmessage(message) {
    if (message.retry !== undefined) emit.retry(message.retry);
    emit.event(message.event || "message", message.data, message.id);
  },
  onerror: reconnect
    ? undefined
    : (error) => {
        throw error;
      },
}).then(
  () => finish(() => emit.end()),
  (error) => finish(() => emit.failed(String(error?.message ?? error))),
);
