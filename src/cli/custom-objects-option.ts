export async function loadCustomObjectModules(_modules: string[]): Promise<void> {}
