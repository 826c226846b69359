export * from './errors.js';
export * from './http.js';
export * from './sse.js';
export * from './openai.js';
export * from './chat-template.js';
export * from './triton.js';
export * from './client-connections.js';
