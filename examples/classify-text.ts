import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultModel, loadModel, saveModel, trainClassifier } from 'expert-router';

// Train from labelled prompts (trainClassifier(texts, { k: 8 }) clusters unlabelled ones instead).
const model = trainClassifier(
  [
    { text: 'Fix this segfault in my C code', label: 'code' },
    { text: 'Why does my Python loop never end?', label: 'code' },
    { text: 'Write a SQL query that counts orders per customer', label: 'code' },
    { text: 'Solve 3x + 5 = 20 for x', label: 'math' },
    { text: 'What is the integral of x squared?', label: 'math' },
    { text: 'How many ways can 5 people sit around a table?', label: 'math' },
  ],
  { seed: 1 },
);

// A model is one JSON file: save it, load it where the gateway runs.
const file = join(mkdtempSync(join(tmpdir(), 'router-')), 'router.json');
saveModel(model, file);
const decision = loadModel(file).predict('My Rust program panics when I call unwrap');
console.log(decision.label, decision.confidence.toFixed(2));

// The built-in model (code, math, medicine, law, creative, general), trained from the project's corpus.
console.log(defaultModel().predict('What dose of ibuprofen is safe for a child?').label);
