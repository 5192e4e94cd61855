import protobuf from 'protobufjs';

/**
 * The part of TensorFlow's event and summary protocol (tensorflow/core/util/
 * event.proto, core/framework/summary.proto, tensor.proto, tensor_shape.proto,
 * types.proto) that the TensorBoard callback writes: the same messages,
 * field numbers and enum values, fewer fields. protobufjs encodes it.
 */
const PROTO = `
syntax = "proto3";
package tensorflow;

message Event {
  double wall_time = 1;
  int64 step = 2;
  oneof what {
    string file_version = 3;
    Summary summary = 5;
  }
}

message Summary {
  message Value {
    string tag = 1;
    SummaryMetadata metadata = 9;
    oneof value {
      float simple_value = 2;
      TensorProto tensor = 8;
    }
  }
  repeated Value value = 1;
}

message SummaryMetadata {
  message PluginData {
    string plugin_name = 1;
    bytes content = 2;
  }
  PluginData plugin_data = 1;
  string display_name = 2;
  string summary_description = 3;
  DataClass data_class = 4;
}

enum DataClass {
  DATA_CLASS_UNKNOWN = 0;
  DATA_CLASS_SCALAR = 1;
  DATA_CLASS_TENSOR = 2;
  DATA_CLASS_BLOB_SEQUENCE = 3;
}

message TensorShapeProto {
  message Dim {
    int64 size = 1;
    string name = 2;
  }
  repeated Dim dim = 2;
  bool unknown_rank = 3;
}

enum DataType {
  DT_INVALID = 0;
  DT_FLOAT = 1;
  DT_DOUBLE = 2;
  DT_STRING = 7;
}

message TensorProto {
  DataType dtype = 1;
  TensorShapeProto tensor_shape = 2;
  int32 version_number = 3;
  bytes tensor_content = 4;
  repeated float float_val = 5 [packed = true];
  repeated double double_val = 6 [packed = true];
  repeated bytes string_val = 8;
}
`;

const root = protobuf.parse(PROTO, { keepCase: true }).root;

/** `tensorflow.Event`: encode with `Event.encode(Event.fromObject({...})).finish()`. */
export const Event = root.lookupType('tensorflow.Event');
