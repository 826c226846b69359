export { Replica, DEFAULT_BREAKER, type ReplicaOptions } from './replica.js';
export { ExpertPool, LeastInFlightPicker, DEFAULT_OUTLIER, type ReplicaPicker, type ReplicaOutcome, type ReplicaEvent, type ExpertPoolOptions } from './expert-pool.js';
export { Admission } from './admission.js';
export { HealthChecker, probe, type HealthCheckOptions } from './health.js';
export { CircuitBreaker, CIRCUIT_STATE_VALUE, type CircuitBreakerOptions, type CircuitState } from './circuit-breaker.js';
export { OutlierDetector, OutlierState, type OutlierOptions } from './outlier-detector.js';
