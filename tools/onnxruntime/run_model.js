#!/usr/bin/env node
// Runs an ONNX model in ONNX Runtime (the onnxruntime-node package) on one input tensor of
// raw little-endian values, and writes the first output the same way.
// Usage: node run_model.js MODEL INPUT OUTPUT DIMS TYPE [THREADS]
//   DIMS: the input's dimensions, comma-separated (16,20,6); TYPE: float32 or float64.
// Prints the output's dimensions as JSON on stdout. Exit code 2 on a bad command line.
'use strict';
const fs = require('fs');

async function main() {
    const args = process.argv.slice(2);
    if (args.length < 5 || args.length > 6 || !['float32', 'float64'].includes(args[4])) {
        console.error('usage: node run_model.js MODEL INPUT OUTPUT DIMS float32|float64 [THREADS]');
        process.exit(2);
    }
    const [model, input, output, dimsText, type] = args;
    const dims = dimsText.split(',').map(Number);
    if (dims.some((d) => !Number.isInteger(d) || d < 1)) {
        console.error(`run_model: DIMS is '${dimsText}', expected positive whole numbers separated by commas`);
        process.exit(2);
    }
    const ort = require('onnxruntime-node');
    const threads = args.length === 6 ? Number(args[5]) : 1;
    const session = await ort.InferenceSession.create(model, {intraOpNumThreads: threads, interOpNumThreads: 1});
    const bytes = fs.readFileSync(input);
    const Values = type === 'float32' ? Float32Array : Float64Array;
    const values = new Values(bytes.buffer, bytes.byteOffset, bytes.length / Values.BYTES_PER_ELEMENT);
    const feeds = {[session.inputNames[0]]: new ort.Tensor(type, values, dims)};
    const result = (await session.run(feeds))[session.outputNames[0]];
    fs.writeFileSync(output, Buffer.from(result.data.buffer, result.data.byteOffset, result.data.byteLength));
    console.log(JSON.stringify(result.dims));
}

main().catch((error) => {
    console.error(`run_model: ${error.message}`);
    process.exit(1);
});
