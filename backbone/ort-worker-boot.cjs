// Entry of the ONNX runtime thread (see ort-host.ts). A worker started on a .ts file directly
// fails ("Unknown file extension"): in a worker thread only tsx's require hook is active, so this
// CommonJS file loads the TypeScript module with require, as piscina's own worker does.
require(require('node:worker_threads').workerData.entry);
