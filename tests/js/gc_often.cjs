'use strict';
// Preloaded (node --expose-gc --require) into the npm CLI by wire.test.mjs: a full garbage
// collection every 10 ms, so anything held only weakly is collected between uploads.
setInterval(() => globalThis.gc(), 10).unref();
