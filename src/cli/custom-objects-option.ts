import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { RxKerasError } from '../core/errors.js';
import { registerCustomObjects } from '../custom-objects/index.js';

/** A `--custom-objects` module that cannot be loaded or exports no custom objects (exit code 1). */
export class CustomObjectsModuleError extends RxKerasError {}

/**
 * `--custom-objects MODULE` (repeatable): imports each module (JavaScript or
 * TypeScript, relative to the working directory) and registers its
 * `customObjects` export, else its default export: a CustomObjects set, or
 * a function returning one (it may be async). Nothing else in the module is
 * looked at; registering is explicit, not a side effect of the import.
 */
export async function loadCustomObjectModules(modules: readonly string[]): Promise<void> {
  for (const file of modules) {
    const where = `--custom-objects '${file}'`;
    let mod: Record<string, unknown>;
    try {
      mod = (await import(pathToFileURL(path.resolve(file)).href)) as Record<string, unknown>;
    } catch (e) {
      const err = new CustomObjectsModuleError(`${where}: cannot load the module: ${e instanceof Error ? e.message : String(e)}`);
      err.cause = e;
      throw err;
    }
    let objects = mod.customObjects ?? mod.default;
    if (typeof objects === 'function') objects = await (objects as () => unknown)();
    if (objects === undefined) throw new CustomObjectsModuleError(`${where}: the module exports neither 'customObjects' nor a default export`);
    registerCustomObjects(objects as Parameters<typeof registerCustomObjects>[0], where);
  }
}
