const EVENTS = ['uncaughtException', 'unhandledRejection'] as const;

/** Emscripten's Node glue rethrows from these listeners: `function(ex){...throw ex}`, `function(reason){throw reason}`. */
const isGlueListener = (listener: unknown): boolean => /^function\s*\((ex|reason)\)\s*\{[^]*throw (ex|reason)/.test(String(listener));

/**
 * Runs `load`, which starts an Emscripten module (the wasm backend), then
 * removes the process-wide `uncaughtException` and `unhandledRejection`
 * listeners that the module's glue added while it ran. They rethrow: every
 * uncaught error of the program became a second throw from inside the
 * minified glue (Node printed that line of it, a screen of code, before the
 * real message, and exited with code 7), and every unhandled rejection an
 * uncaught exception. Without them Node reports the program's own errors as
 * it always does. Listeners the program added meanwhile are kept.
 */
export async function withoutGlueHandlers<T>(load: () => Promise<T>): Promise<T> {
  const emitter: NodeJS.EventEmitter = process;
  const before = new Map(EVENTS.map((e) => [e, new Set(emitter.listeners(e))]));
  try {
    return await load();
  } finally {
    for (const event of EVENTS)
      for (const listener of emitter.listeners(event))
        if (!before.get(event)!.has(listener) && isGlueListener(listener)) emitter.removeListener(event, listener as (...args: unknown[]) => void);
  }
}
