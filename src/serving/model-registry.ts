import { InvalidArgumentError } from '../core/errors.js';
import { ServableNotFoundError } from './errors.js';
import { checkBatchingOptions } from './micro-batch.js';
import { Servable, type BatchingOptions, type ServableObserver, type VersionState } from './servable.js';
import type { ServableModel } from './signature.js';

export interface LoadOptions {
  /** A whole number above 0; by default one more than the highest version of this name so far. */
  version?: number;
  /** Dispose the model when this version is unloaded (the registry then owns it). */
  dispose?: boolean;
}

/**
 * The models a server serves, by name and version, as TF Serving's model
 * manager: requests without a version go to the highest available one.
 * `swap` loads a new version and then unloads the older ones; requests
 * already routed to an old version are still answered by it, so a swap under
 * load drops nothing.
 */
export class ModelRegistry {
  private readonly models = new Map<string, Servable[]>();

  constructor(
    private readonly batching: BatchingOptions,
    private readonly observe: (name: string, version: number) => ServableObserver = () => ({}),
  ) {
    checkBatchingOptions(batching);
  }

  /** Serves `model` as version `version` of `name` (available at once). */
  load(name: string, model: ServableModel, options: LoadOptions = {}): Servable {
    if (!/^[^/:]+$/.test(name)) throw new InvalidArgumentError('model name', "a name without '/' or ':' (it goes in the URL)", name);
    const versions = this.models.get(name) ?? [];
    const version = options.version ?? Math.max(0, ...versions.map((s) => s.version)) + 1;
    if (!Number.isInteger(version) || version < 1) throw new InvalidArgumentError(`model '${name}' version`, 'a whole number >= 1', version);
    if (versions.some((s) => s.version === version && s.state !== 'END'))
      throw new InvalidArgumentError(`model '${name}' version`, 'a version not already served (swap to replace it)', version);
    const servable = new Servable(name, version, model, this.batching, {
      dispose: options.dispose ? () => (model as { dispose?: () => void }).dispose?.() : undefined,
      observer: this.observe(name, version),
    });
    this.models.set(name, [...versions.filter((s) => s.version !== version), servable].sort((a, b) => a.version - b.version));
    return servable;
  }

  /** Loads `model` as a new version of `name`, then unloads the older versions once they have answered what they hold. */
  async swap(name: string, model: ServableModel, options: LoadOptions = {}): Promise<Servable> {
    const old = (this.models.get(name) ?? []).filter((s) => s.state === 'AVAILABLE');
    const servable = this.load(name, model, options);
    await Promise.all(old.map((s) => s.unload()));
    return servable;
  }

  /** Stops serving a version: it answers what it holds, then goes (state END). */
  async unload(name: string, version: number): Promise<void> {
    await this.resolve(name, version).unload();
  }

  /** The servable a request goes to: the given version, or the highest available one. */
  resolve(name: string, version?: number): Servable {
    const available = (this.models.get(name) ?? []).filter((s) => s.state === 'AVAILABLE');
    const servable = version === undefined ? available.at(-1) : available.find((s) => s.version === version);
    if (!servable) throw new ServableNotFoundError(`Servable not found for request: ${version === undefined ? `Latest(${name})` : `Specific(${name}, ${version})`}`);
    return servable;
  }

  /** Every version of `name` that was loaded, with its state (TF Serving's GetModelStatus). */
  status(name: string, version?: number): { version: number; state: VersionState }[] {
    const versions = this.models.get(name) ?? [];
    if (versions.length === 0) throw new ServableNotFoundError(`Could not find any versions of model ${name}`);
    const listed = version === undefined ? versions : versions.filter((s) => s.version === version);
    if (listed.length === 0) throw new ServableNotFoundError(`Could not find version ${version} of model ${name}`);
    return listed.map((s) => ({ version: s.version, state: s.state }));
  }

  get names(): string[] {
    return [...this.models.keys()];
  }

  /** Unloads everything (each version answers what it holds first). */
  async close(): Promise<void> {
    await Promise.all([...this.models.values()].flat().map((s) => s.unload()));
  }
}
