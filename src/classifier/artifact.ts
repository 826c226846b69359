/**
 * The model artifact: one JSON file, versioned, with the arrays as base64 little-endian bytes and a SHA-256
 * over them, so that corrupt, truncated and foreign files are told apart and reported with the file name.
 * Serialisation is deterministic: the same model gives the same bytes.
 */
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { ClassifierError } from './errors.js';
import { validateFeatureSettings, type FeatureSettings } from './featurize.js';
import { readTextFile } from './examples.js';
import { ClassifierModel, type ModelMetadata } from './model.js';

export const ARTIFACT_FORMAT = 'expert-router/classifier';
/**
 * 2: centroids stored as bytes with a step per row (version 1 held them as float32). 3: feature settings hold
 * the text budget (textBudget, ngramBudget); older models read whole prompts and would predict differently.
 * 4: metadata holds the fitted softmax temperature behind each prediction's confidence. 5: linear models
 * (metadata kind, signed weights around byte 128, a bias per cluster); `centroids` became `weights`.
 */
export const ARTIFACT_VERSION = 5;

type TypedArray = Int32Array | Float32Array | Uint8Array;
const DTYPES = { int32: Int32Array, float32: Float32Array, uint8: Uint8Array } as const;
type Dtype = keyof typeof DTYPES;

interface EncodedArray {
  dtype: Dtype;
  length: number;
  base64: string;
}

interface Artifact {
  format: string;
  version: number;
  metadata: ModelMetadata;
  clusterLabels: string[];
  idfUnseen: number;
  arrays: { features: EncodedArray; idf: EncodedArray; steps: EncodedArray; weights: EncodedArray; bias: EncodedArray };
  sha256: string;
}

const ARRAY_KEYS = ['features', 'idf', 'steps', 'weights', 'bias'] as const;

function encode(array: TypedArray): EncodedArray {
  const bytes = Buffer.from(array.buffer, array.byteOffset, array.byteLength);
  const dtype = array instanceof Int32Array ? 'int32' : array instanceof Float32Array ? 'float32' : 'uint8';
  return { dtype, length: array.length, base64: bytes.toString('base64') };
}

function digest(arrays: Artifact['arrays']): string {
  const hash = createHash('sha256');
  for (const key of ARRAY_KEYS) hash.update(arrays[key].base64);
  return hash.digest('hex');
}

export function serializeModel(model: ClassifierModel): string {
  const p = model.parts;
  const arrays = { features: encode(p.features), idf: encode(p.idf), steps: encode(p.weights.steps), weights: encode(p.weights.values), bias: encode(p.bias) };
  const artifact: Artifact = {
    format: ARTIFACT_FORMAT,
    version: ARTIFACT_VERSION,
    metadata: p.metadata,
    clusterLabels: [...p.clusterLabels],
    idfUnseen: p.idfUnseen,
    arrays,
    sha256: digest(arrays),
  };
  return `${JSON.stringify(artifact)}\n`;
}

export function saveModel(model: ClassifierModel, path: string): void {
  try {
    writeFileSync(path, serializeModel(model));
  } catch (err) {
    throw new ClassifierError('file_unreadable', `cannot write model file ${path}: ${(err as Error).message}`, { cause: err });
  }
}

export function loadModel(path: string): ClassifierModel {
  return parseModel(readTextFile(path, 'model file'), path);
}

/** Parses an artifact's text; `name` (the file) appears in every error. */
export function parseModel(text: string, name: string): ClassifierModel {
  const trimmed = text.trim();
  if (trimmed === '') throw new ClassifierError('model_truncated', `model file ${name} is empty`);
  if (!trimmed.startsWith('{')) throw new ClassifierError('model_foreign', `${name} is not an expert-router classifier model (not a JSON object)`);
  let value: unknown;
  try {
    value = JSON.parse(trimmed);
  } catch (err) {
    // A cut-off file fails at its very end; anything earlier is damage inside the file.
    const truncated = !trimmed.endsWith('}') || /end of (JSON )?input/i.test((err as Error).message);
    if (truncated) throw new ClassifierError('model_truncated', `model file ${name} is truncated (the JSON ends early)`);
    throw new ClassifierError('model_corrupt', `model file ${name} is corrupt: ${(err as Error).message}`);
  }
  const a = value as Partial<Artifact>;
  if (typeof a !== 'object' || a === null || a.format !== ARTIFACT_FORMAT) {
    throw new ClassifierError('model_foreign', `${name} is not an expert-router classifier model (format is not '${ARTIFACT_FORMAT}')`);
  }
  if (a.version !== ARTIFACT_VERSION) {
    throw new ClassifierError(
      'model_version',
      `model file ${name} has format version ${String(a.version)}; this build reads version ${ARTIFACT_VERSION} (train the model again)`,
    );
  }
  const corrupt = (what: string) => new ClassifierError('model_corrupt', `model file ${name} is corrupt: ${what}`);
  const m = a.metadata;
  if (typeof m !== 'object' || m === null || typeof m.features !== 'object' || m.features === null) throw corrupt('metadata or feature settings missing');
  let features: FeatureSettings;
  try {
    features = validateFeatureSettings(m.features);
  } catch (err) {
    throw corrupt((err as Error).message);
  }
  const labels = a.clusterLabels;
  if (!Array.isArray(labels) || labels.length === 0 || !labels.every((l) => typeof l === 'string')) throw corrupt('clusterLabels must be a non-empty list of strings');
  if (typeof a.idfUnseen !== 'number' || !Number.isFinite(a.idfUnseen)) throw corrupt('idfUnseen must be a number');
  const arrays = a.arrays;
  if (typeof arrays !== 'object' || arrays === null) throw corrupt('arrays missing');
  for (const key of ARRAY_KEYS) {
    const e = arrays[key];
    if (typeof e !== 'object' || e === null || typeof e.base64 !== 'string' || !Number.isInteger(e.length)) throw corrupt(`array '${key}' missing or malformed`);
  }
  if (a.sha256 !== digest(arrays)) throw corrupt('checksum mismatch (the arrays were altered or damaged)');
  const k = labels.length;
  const featureRows = decode(arrays.features, 'int32', corrupt, 'features');
  const idf = decode(arrays.idf, 'float32', corrupt, 'idf');
  const steps = decode(arrays.steps, 'float32', corrupt, 'steps');
  const weights = decode(arrays.weights, 'uint8', corrupt, 'weights');
  const bias = decode(arrays.bias, 'float32', corrupt, 'bias');
  if (idf.length !== featureRows.length) throw corrupt(`idf has ${idf.length} entries for ${featureRows.length} features`);
  if (steps.length !== featureRows.length) throw corrupt(`steps has ${steps.length} entries for ${featureRows.length} features`);
  if (weights.length !== featureRows.length * k) throw corrupt(`weights have ${weights.length} values, expected ${featureRows.length} x ${k}`);
  if (bias.length !== k) throw corrupt(`bias has ${bias.length} entries for ${k} clusters`);
  if (m.kind !== 'linear' && m.kind !== 'centroid') throw corrupt(`metadata kind must be 'linear' or 'centroid', got ${String(m.kind)}`);
  if (!bias.every(Number.isFinite)) throw corrupt('bias holds a value that is not a finite number');
  const taken = new Uint8Array(features.dim);
  for (let i = 0; i < featureRows.length; i++) {
    const f = featureRows[i];
    if (f < 0 || f >= features.dim || taken[f]) throw corrupt(`feature row ${i} is out of range or repeated`);
    taken[f] = 1;
  }
  if (m.k !== k) throw corrupt(`metadata k (${String(m.k)}) does not match ${k} cluster labels`);
  if (typeof m.temperature !== 'number' || !(m.temperature > 0 && m.temperature < Infinity)) throw corrupt('metadata temperature must be a positive number');
  for (let i = 0; i < steps.length; i++) if (!(steps[i] >= 0 && steps[i] < Infinity)) throw corrupt(`steps[${i}] is not a finite non-negative number`);
  return new ClassifierModel({ metadata: m, clusterLabels: labels, features: featureRows, idf, idfUnseen: a.idfUnseen, weights: { values: weights, steps }, bias });
}

function decode<D extends Dtype>(e: EncodedArray, dtype: D, corrupt: (what: string) => Error, key: string): InstanceType<(typeof DTYPES)[D]> {
  if (e.dtype !== dtype) throw corrupt(`array '${key}' has dtype ${String(e.dtype)}, expected ${dtype}`);
  const Type = DTYPES[dtype];
  const bytes = Buffer.from(e.base64, 'base64');
  if (bytes.length !== e.length * Type.BYTES_PER_ELEMENT) throw corrupt(`array '${key}' holds ${bytes.length} bytes, expected ${e.length * Type.BYTES_PER_ELEMENT}`);
  // Copy into an aligned buffer (a Buffer's offset into its pool need not be a multiple of 4).
  const aligned = new ArrayBuffer(bytes.length);
  new Uint8Array(aligned).set(bytes);
  return new Type(aligned) as InstanceType<(typeof DTYPES)[D]>;
}
