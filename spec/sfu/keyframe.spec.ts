import t from 'tap';
import {
  codecFromMimeType,
  isAv1KeyFrame,
  isDependencyDescriptorKeyFrame,
  isH264KeyFrame,
  isKeyFrame,
  isVp8KeyFrame,
  isVp9KeyFrame,
} from '../../lib/sfu/index.js';
import { vp8 } from './harness.js';

const b = (...x: number[]) => Uint8Array.from(x);

t.test('VP8 (RFC 7741): S=1, PartID 0 and P=0 is a key frame', async (t) => {
  t.ok(isVp8KeyFrame(vp8(true)));
  t.notOk(isVp8KeyFrame(vp8(false)), 'inter frame');
  t.notOk(isVp8KeyFrame(vp8(true, false)), 'continuation packet of a key frame');
  t.ok(isVp8KeyFrame(b(0x10, 0x00)), 'no extension byte');
  t.ok(isVp8KeyFrame(b(0x90, 0xc0, 0x05, 0x07, 0x00)), '7-bit PictureID + TL0PICIDX');
  t.ok(isVp8KeyFrame(b(0x90, 0xf0, 0x81, 0x02, 0x07, 0x20, 0x00)), 'all optional fields');
  t.notOk(isVp8KeyFrame(b(0x11, 0x00)), 'PartID 1');
  t.notOk(isVp8KeyFrame(b(0x90, 0x80, 0x81)), 'truncated after PictureID');
  t.notOk(isVp8KeyFrame(b()), 'empty');
});

t.test('VP9 (RFC 9628): P=0 and B=1, spatial layer 0 when layer indices are present', async (t) => {
  t.ok(isVp9KeyFrame(b(0x08)), 'B only');
  t.notOk(isVp9KeyFrame(b(0x48)), 'P set: inter-picture predicted');
  t.notOk(isVp9KeyFrame(b(0x00)), 'not the start of a frame');
  t.ok(isVp9KeyFrame(b(0xa8, 0x81, 0x02, 0x00)), 'I+L, 15-bit picture id, SID 0');
  t.notOk(isVp9KeyFrame(b(0xa8, 0x05, 0x02)), 'SID 1');
  t.notOk(isVp9KeyFrame(b(0xa8, 0x85)), 'truncated');
});

t.test('H.264 (RFC 6184): IDR or SPS single NAL, in STAP-A, at the start of FU-A', async (t) => {
  t.ok(isH264KeyFrame(b(0x65, 0x88)), 'IDR slice');
  t.ok(isH264KeyFrame(b(0x67, 0x42)), 'SPS');
  t.notOk(isH264KeyFrame(b(0x41, 0x9a)), 'non-IDR slice');
  t.ok(isH264KeyFrame(b(0x18, 0x00, 0x02, 0x67, 0x42, 0x00, 0x02, 0x68, 0xce)), 'STAP-A SPS+PPS');
  t.notOk(isH264KeyFrame(b(0x18, 0x00, 0x02, 0x41, 0x9a)), 'STAP-A of a P slice');
  t.notOk(isH264KeyFrame(b(0x18, 0x00, 0x09, 0x67)), 'STAP-A size past the end');
  t.ok(isH264KeyFrame(b(0x7c, 0x85, 0x88)), 'FU-A start of IDR');
  t.notOk(isH264KeyFrame(b(0x7c, 0x05, 0x88)), 'FU-A middle of IDR');
  t.notOk(isH264KeyFrame(b(0x7c, 0x81, 0x88)), 'FU-A start of a P slice');
  t.notOk(isH264KeyFrame(b(0x7c)), 'truncated FU-A');
});

t.test(
  'AV1: N bit, a leading sequence header OBU, or a dependency descriptor with structure',
  async (t) => {
    t.ok(isAv1KeyFrame(b(0x18, 0x0a)), 'N=1');
    t.ok(isAv1KeyFrame(b(0x10, 0x0a, 0x00)), 'W=1, sequence header OBU first');
    t.ok(isAv1KeyFrame(b(0x00, 0x02, 0x0a, 0x00)), 'W=0, length-prefixed sequence header');
    t.notOk(isAv1KeyFrame(b(0x10, 0x32, 0x00)), 'frame OBU');
    t.notOk(isAv1KeyFrame(b(0x90, 0x0a, 0x00)), 'Z=1 continuation');
    t.ok(isDependencyDescriptorKeyFrame(b(0x80, 0x01, 0x00, 0x80, 0x00)));
    t.notOk(isDependencyDescriptorKeyFrame(b(0x80, 0x01, 0x00)), 'mandatory fields only');
    t.notOk(isDependencyDescriptorKeyFrame(b(0x00, 0x01, 0x00, 0x80)), 'not start of frame');
  },
);

t.test('codec names from MIME types; audio is always a start point', async (t) => {
  t.equal(codecFromMimeType('video/H264'), 'h264');
  t.equal(codecFromMimeType('audio/opus'), 'opus');
  t.equal(codecFromMimeType('video/rtx'), 'other');
  t.ok(isKeyFrame('opus', b(0xfc)));
  t.notOk(isKeyFrame('vp8', vp8(false)));
  t.ok(isKeyFrame('h264', b(0x65)));
});
