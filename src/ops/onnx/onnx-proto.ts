/**
 * The subset of ONNX's protobuf schema (onnx/onnx.proto, field numbers as
 * published) that a traced graph needs: a model, its graph, nodes,
 * attributes, tensors and value infos. protobufjs encodes it.
 */
import protobuf from 'protobufjs';

const schema = `
syntax = "proto3";
package onnx;
message AttributeProto {
  enum AttributeType { UNDEFINED = 0; FLOAT = 1; INT = 2; STRING = 3; TENSOR = 4; GRAPH = 5; FLOATS = 6; INTS = 7; STRINGS = 8; }
  string name = 1;
  AttributeType type = 20;
  float f = 2;
  int64 i = 3;
  bytes s = 4;
  TensorProto t = 5;
  repeated float floats = 7;
  repeated int64 ints = 8;
  repeated bytes strings = 9;
}
message ValueInfoProto { string name = 1; TypeProto type = 2; }
message NodeProto {
  repeated string input = 1;
  repeated string output = 2;
  string name = 3;
  string op_type = 4;
  string domain = 7;
  repeated AttributeProto attribute = 5;
}
message ModelProto {
  int64 ir_version = 1;
  repeated OperatorSetIdProto opset_import = 8;
  string producer_name = 2;
  GraphProto graph = 7;
}
message GraphProto {
  repeated NodeProto node = 1;
  string name = 2;
  repeated TensorProto initializer = 5;
  repeated ValueInfoProto input = 11;
  repeated ValueInfoProto output = 12;
}
message TensorProto {
  repeated int64 dims = 1;
  int32 data_type = 2;
  string name = 8;
  bytes raw_data = 9;
}
message TensorShapeProto {
  message Dimension { int64 dim_value = 1; }
  repeated Dimension dim = 1;
}
message TypeProto {
  message Tensor { int32 elem_type = 1; TensorShapeProto shape = 2; }
  Tensor tensor_type = 1;
}
message OperatorSetIdProto { string domain = 1; int64 version = 2; }
`;

const root = protobuf.parse(schema, { keepCase: true }).root;
const Model = root.lookupType('onnx.ModelProto');

/** ONNX TensorProto.DataType codes for the dtypes a trace uses. */
export const ONNX_DTYPE = { float32: 1, int32: 6, bool: 9, int64: 7 } as const;
export type OnnxDtype = keyof typeof ONNX_DTYPE;

export interface OnnxAttribute {
  name: string;
  type: number;
  f?: number;
  i?: number;
  s?: Uint8Array;
  floats?: number[];
  ints?: number[];
}
export interface OnnxNode {
  op_type: string;
  domain?: string;
  input: string[];
  output: string[];
  attribute: OnnxAttribute[];
}
export interface OnnxTensor {
  name: string;
  dims: number[];
  data_type: number;
  raw_data: Uint8Array;
}
export interface OnnxValueInfo {
  name: string;
  type: { tensor_type: { elem_type: number; shape: { dim: { dim_value: number }[] } } };
}
export interface OnnxGraph {
  name: string;
  node: OnnxNode[];
  initializer: OnnxTensor[];
  input: OnnxValueInfo[];
  output: OnnxValueInfo[];
}

/** The opset a traced graph is written for (ORT 1.30 implements it on CPU). */
export const OPSET = 17;

/** Serialises a graph as an ONNX model (IR version 8, the default opset plus Microsoft's contrib ops and the `domains` given, version 1). */
export function encodeModel(graph: OnnxGraph, domains: readonly string[] = []): Uint8Array {
  const message = Model.fromObject({
    ir_version: 8,
    producer_name: 'rxkeras',
    opset_import: [{ domain: '', version: OPSET }, { domain: 'com.microsoft', version: 1 }, ...domains.map((domain) => ({ domain, version: 1 }))],
    graph,
  });
  return Model.encode(message).finish();
}

/** A value info for a tensor of a known shape and dtype. */
export function valueInfo(name: string, dtype: OnnxDtype, shape: readonly number[]): OnnxValueInfo {
  return { name, type: { tensor_type: { elem_type: ONNX_DTYPE[dtype], shape: { dim: shape.map((d) => ({ dim_value: d })) } } } };
}

export const ATTR = { FLOAT: 1, INT: 2, STRING: 3, FLOATS: 6, INTS: 7 } as const;
