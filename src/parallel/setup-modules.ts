import { registerCustomObjects, type CustomObjects } from '../custom-objects/index.js';

const imported = new Set<string>();

/**
 * On a device: imports each setup module once (by URL) and registers its
 * `customObjects` export, so that a model config naming custom layers,
 * losses or functions builds there as on the main thread.
 */
export async function importSetupModules(urls: readonly string[]): Promise<void> {
  for (const url of urls) {
    if (imported.has(url)) continue;
    const mod = (await import(url)) as { customObjects?: CustomObjects };
    if (mod.customObjects) registerCustomObjects(mod.customObjects, `setup module ${url}`);
    imported.add(url);
  }
}
