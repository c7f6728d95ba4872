#!/usr/bin/env node
// Times ONNX Runtime (the npm package onnxruntime-node, in tools/onnxruntime) on a model's
// inference, for nndl's benchmark: IMAGES random inputs in batches of BATCH, on THREADS
// intra-op threads, after one warm-up batch. Prints "RESULT onnxruntime SECONDS IMAGES".
// Usage: node onnxruntime_inference.js MODEL BATCH THREADS IMAGES DIM...
//   DIM...: one input's dimensions without the batch (784, or 1 28 28).
'use strict';
const path = require('path');

async function main() {
    const args = process.argv.slice(2);
    const numbers = args.slice(1).map(Number);
    if (args.length < 5 || numbers.some((n) => !Number.isInteger(n) || n < 1)) {
        console.error('usage: node onnxruntime_inference.js MODEL BATCH THREADS IMAGES DIM...');
        process.exit(2);
    }
    const [batch, threads, images, ...dims] = numbers;
    const ort = require(path.join(__dirname, '..', 'tools', 'onnxruntime', 'node_modules', 'onnxruntime-node'));
    const session = await ort.InferenceSession.create(args[0], {
        intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential',
    });
    const size = dims.reduce((a, b) => a * b, 1);
    const values = new Float32Array(batch * size);
    for (let i = 0; i < values.length; ++i) {
        values[i] = Math.random();
    }
    const feeds = {[session.inputNames[0]]: new ort.Tensor('float32', values, [batch, ...dims])};
    await session.run(feeds);  // warm-up
    const runs = Math.max(1, Math.floor(images / batch));
    const start = process.hrtime.bigint();
    for (let r = 0; r < runs; ++r) {
        await session.run(feeds);
    }
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    console.log(`RESULT onnxruntime ${seconds.toFixed(6)} ${runs * batch}`);
}

main().catch((error) => {
    console.error(`onnxruntime_inference: ${error.message}`);
    process.exit(1);
});
