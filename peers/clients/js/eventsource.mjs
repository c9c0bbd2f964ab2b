// eventsource (npm), the WHATWG EventSource for Node: `node eventsource.mjs URL`.
//
// As the Chromium adapter does with the browser's: `new EventSource(url)`, a
// listener for each event type the URL's `types` names, and on an `error`
// event a look at `readyState`: CLOSED means the client failed the connection
// for good; anything else that the stream ended and it will reconnect, which
// the adapter prevents by closing it unless the URL says `reconnect=1`. Each
// event's `lastEventId` is the library's. The reconnection time is private to
// the library: `retry` is not observed.

import { EventSource } from "eventsource";
import { emit, finish, options, version } from "./protocol.mjs";

const url = process.argv[2];
const { types, reconnect } = options(url);
emit.hello(`eventsource ${version("eventsource")}`, ["reconnect"]);

const source = new EventSource(url);
for (const type of types) {
  source.addEventListener(type, (event) => emit.event(event.type, event.data, event.lastEventId));
}
source.addEventListener("error", (error) => {
  const failed = source.readyState === EventSource.CLOSED;
  if (reconnect && !failed) return;
  source.close();
  finish(() => (failed ? emit.failed(error.message ?? "readyState CLOSED") : emit.end()));
});
