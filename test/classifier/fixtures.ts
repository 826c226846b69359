/** A tiny labelled corpus for classifier tests: distinct vocabularies per label. */
import type { LabelledText } from '../../src/classifier/index.js';

const topics: Record<string, string[]> = {
  code: ['python function', 'javascript array', 'compile error', 'rust borrow checker', 'sql query join', 'git merge conflict'],
  math: ['integral of x', 'solve the equation', 'prime numbers', 'derivative of sin', 'probability of dice', 'matrix determinant'],
  law: ['contract breach', 'tenant rights', 'criminal defendant', 'court appeal', 'copyright lawsuit', 'statute of limitations'],
};
const frames = ['How do I handle {t}?', 'Explain {t} simply', 'question about {t} please', 'what is {t} and why does it matter', 'help me with {t}'];

/** Labelled examples phrased in shared frames ("Explain ... simply"), as users write. */
export const TINY_CORPUS: LabelledText[] = Object.entries(topics).flatMap(([label, ts]) =>
  ts.flatMap((t) => frames.map((f) => ({ text: f.replace('{t}', t), label }))),
);

/** Pairs of topics of one label, no shared frames: clusters that k-means should find from words alone. */
export const TOPIC_PAIRS: LabelledText[] = Object.entries(topics).flatMap(([label, ts]) =>
  ts.flatMap((a, i) => ts.slice(i + 1).map((b) => ({ text: `${a} ${b}`, label }))),
);
