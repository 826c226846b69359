export { Replica, type ReplicaOptions } from './replica.js';
export { ExpertPool, LeastInFlightPicker, type ReplicaPicker, type ExpertPoolOptions } from './expert-pool.js';
export { Admission } from './admission.js';
export { HealthChecker, probe, type HealthCheckOptions } from './health.js';
export { Http1Pool, UpstreamError, type Http1PoolOptions, type UpstreamControl, type UpstreamHandler, type UpstreamRequest } from './http1/pool.js';
