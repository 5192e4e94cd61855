/** A binding's native session, held until disposed; a profiled one writes its profile when it is freed. */
export abstract class HeldSession<S extends { endProfiling(): unknown; dispose(): void }> {
  private session: S | undefined;

  constructor(
    session: S,
    private readonly profiling: boolean,
  ) {
    this.session = session;
  }

  /** The session, or an error saying that it was disposed. */
  protected held(): S {
    if (!this.session) throw new Error(`${this.constructor.name}.run: the session was disposed`);
    return this.session;
  }

  /** Frees the native session; a profiled one writes its profile first. */
  dispose(): void {
    if (this.profiling) this.session?.endProfiling();
    this.session?.dispose();
    this.session = undefined;
  }

  get disposed(): boolean {
    return this.session === undefined;
  }
}
