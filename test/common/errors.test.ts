import { describe, expect, it } from 'vitest';
import { ClassifierError } from '../../src/classifier/index.js';
import { CliError } from '../../src/cli/run.js';
import { ExpertRouterError } from '../../src/common/errors.js';
import { ConfigError } from '../../src/config/load.js';
import { SpecError } from '../../src/experiment/index.js';
import { HarnessError } from '../../src/harness/index.js';
import { FaultUpdateError } from '../../src/sim/faults.js';
import { SimError } from '../../src/sim/index.js';

describe('ExpertRouterError', () => {
  it('carries a stable code, the class name and the cause', () => {
    const cause = new Error('underneath');
    const err = new ExpertRouterError('some_code', 'it failed', { cause });
    expect(err).toBeInstanceOf(Error);
    expect({ name: err.name, code: err.code, message: err.message, cause: err.cause }).toEqual({ name: 'ExpertRouterError', code: 'some_code', message: 'it failed', cause });
    expect('cause' in new ExpertRouterError('c', 'no cause')).toBe(false);
  });

  it.each([
    ['ClassifierError', new ClassifierError('model_corrupt', 'm'), 'model_corrupt'],
    ['SimError', new SimError('no_fit', 'm'), 'no_fit'],
    ['FaultUpdateError', new FaultUpdateError('m', 'error_rate'), 'invalid_fault_setting'],
    ['HarnessError', new HarnessError('invalid_option', 'm'), 'invalid_option'],
    ['SpecError', new SpecError('m', { code: 'unknown_preset' }), 'unknown_preset'],
    ['ConfigError', new ConfigError('m'), 'config_invalid'],
    ['CliError', new CliError('m', 2), 'invalid_argument'],
  ] as const)('%s is an ExpertRouterError named after its class, with its code', (name, err, code) => {
    expect(err).toBeInstanceOf(ExpertRouterError);
    expect(err.name).toBe(name);
    expect(err.code).toBe(code);
  });
});
