"""An independent reader of TensorBoard event files, using only the standard library:
TFRecord framing (length, masked CRC32C of the length, data, masked CRC32C of the data;
the CRC32C from its own table) and the protobuf wire format decoded by hand with the
field numbers of tensorflow/core/util/event.proto and core/framework/summary.proto.
Prints the events of the file named on the command line as JSON; exits 1 with the
offset on a bad CRC or a truncated record."""
import json
import struct
import sys

TABLE = []
for n in range(256):
    c = n
    for _ in range(8):
        c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
    TABLE.append(c)


def crc32c(data):
    c = 0xFFFFFFFF
    for b in data:
        c = TABLE[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def masked(data):
    c = crc32c(data)
    return (((c >> 15) | (c << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def fields(buf):
    """{field number: [values]}: ints for varints, bytes for length-delimited and fixed-width fields."""
    out, i = {}, 0
    while i < len(buf):
        key, i = varint(buf, i)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, i = varint(buf, i)
        elif wire == 1:
            value, i = buf[i:i + 8], i + 8
        elif wire == 2:
            size, i = varint(buf, i)
            value, i = buf[i:i + size], i + size
        elif wire == 5:
            value, i = buf[i:i + 4], i + 4
        else:
            raise ValueError('wire type %d' % wire)
        out.setdefault(number, []).append(value)
    return out


def varint(buf, i):
    shift = result = 0
    while True:
        b = buf[i]
        i += 1
        result |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return result, i


def one(f, n, default=None):
    return f[n][0] if n in f else default


def tensor(buf):
    f = fields(buf)
    shape = [one(fields(d), 1, 0) for d in fields(one(f, 2, b'')).get(2, [])]
    out = {'dtype': one(f, 1, 0), 'shape': shape}
    if 5 in f:  # float_val, packed
        out['float_val'] = [x for chunk in f[5] for x in struct.unpack('<%df' % (len(chunk) // 4), chunk)]
    if 4 in f and out['dtype'] == 2:  # tensor_content of float64
        out['double_content'] = list(struct.unpack('<%dd' % (len(f[4][0]) // 8), f[4][0]))
    if 8 in f:
        out['string_val'] = [s.decode('utf8') for s in f[8]]
    return out


def value(buf):
    f = fields(buf)
    out = {'tag': one(f, 1, b'').decode('utf8')}
    if 9 in f:
        plugin = fields(one(fields(f[9][0]), 1, b''))
        out['plugin'] = one(plugin, 1, b'').decode('utf8')
        out['content'] = one(plugin, 2, b'').decode('utf8')
    if 2 in f:
        out['simple_value'] = struct.unpack('<f', f[2][0])[0]
    if 8 in f:
        out['tensor'] = tensor(f[8][0])
    return out


def read(path):
    data = open(path, 'rb').read()
    events, i = [], 0
    while i < len(data):
        if i + 12 > len(data):
            sys.exit('truncated header at %d' % i)
        header = data[i:i + 8]
        (length,) = struct.unpack('<Q', header)
        (crc,) = struct.unpack('<I', data[i + 8:i + 12])
        if crc != masked(header):
            sys.exit('bad length CRC at %d' % i)
        body = data[i + 12:i + 12 + length]
        if len(body) != length or i + 16 + length > len(data):
            sys.exit('truncated record at %d' % i)
        (crc,) = struct.unpack('<I', data[i + 12 + length:i + 16 + length])
        if crc != masked(body):
            sys.exit('bad data CRC at %d' % i)
        i += 16 + length
        f = fields(body)
        event = {'wall_time': struct.unpack('<d', one(f, 1, b'\0' * 8))[0], 'step': one(f, 2, 0)}
        if 3 in f:
            event['file_version'] = f[3][0].decode('utf8')
        if 5 in f:
            event['values'] = [value(v) for v in fields(f[5][0]).get(1, [])]
        events.append(event)
    return events


json.dump(read(sys.argv[1]), sys.stdout)
