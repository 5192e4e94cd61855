/**
 * FAQ: "How can I save only the architecture?" toJSON / toYAML write Keras's
 * JSON and YAML; modelFromJSON / modelFromYAML build the same architecture
 * again, with fresh weights.
 */
import * as rx from '../../src/index.js';

await rx.initBackend({ quiet: true });
const model = new rx.Sequential({
  layers: [rx.Dense({ units: 4, activation: 'relu', input_shape: [8], name: 'hidden' }), rx.Dense({ units: 1, activation: 'sigmoid', name: 'out' })],
}).build(1);
const json = model.toJSON();
const yaml = model.toYAML();
console.log(`JSON (${json.length} characters): ${json.slice(0, 72)}...`);
console.log(`YAML first lines: ${yaml.split('\n').slice(0, 3).join(' | ')}`);
const fromJson = rx.modelFromJSON(json);
const fromYaml = rx.modelFromYAML(yaml);
console.log(`same architecture from JSON: ${fromJson.toJSON() === json}`);
console.log(`same architecture from YAML: ${fromYaml.toJSON() === json}`);
console.log(`layers: ${fromJson.layers.map((l) => `${l.name} (${l.className})`).join(', ')}`);
