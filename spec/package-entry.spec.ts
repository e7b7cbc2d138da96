/** The package's main entry ("." in package.json "exports") carries the public API. */
import t from 'tap';
import * as dtls from '../lib/dtls/index.js';
import * as ice from '../lib/ice/index.js';
import * as rtcd from '../lib/index.js';
import * as rtcp from '../lib/rtcp/index.js';
import * as rtp from '../lib/rtp/index.js';
import * as sdp from '../lib/sdp/index.js';
import * as sfu from '../lib/sfu/index.js';
import * as signal from '../lib/signal/index.js';
import * as srtp from '../lib/srtp/index.js';
import * as stun from '../lib/stun/index.js';
import { TurnClient } from '../lib/turn/client.js';
import * as turn from '../lib/turn/index.js';
import { TurnServer } from '../lib/turn/server.js';
import * as webrtc from '../lib/webrtc/index.js';

t.test('the roles are exported by name', async (t) => {
  t.equal(rtcd.TurnServer, TurnServer);
  t.equal(rtcd.TurnClient, TurnClient);
  t.equal(typeof rtcd.VERSION, 'string');
  t.equal(rtcd.SignalServer, signal.SignalServer);
  t.equal(rtcd.IceAgent, ice.IceAgent);
  t.equal(rtcd.IceLiteMux, ice.IceLiteMux);
  t.equal(rtcd.DtlsConnection, dtls.DtlsConnection);
  t.equal(rtcd.generateCertificate, dtls.generateCertificate);
});

t.test('the protocol layers are namespaces equal to rtcd/stun and rtcd/turn', async (t) => {
  t.same(Object.keys(rtcd.stun).sort(), Object.keys(stun).sort());
  t.same(Object.keys(rtcd.turn).sort(), Object.keys(turn).sort());
  t.same(Object.keys(rtcd.rtp).sort(), Object.keys(rtp).sort());
  t.same(Object.keys(rtcd.rtcp).sort(), Object.keys(rtcp).sort());
  t.same(Object.keys(rtcd.srtp).sort(), Object.keys(srtp).sort());
  t.same(Object.keys(rtcd.dtls).sort(), Object.keys(dtls).sort());
  t.same(Object.keys(rtcd.ice).sort(), Object.keys(ice).sort());
  t.same(Object.keys(rtcd.signal).sort(), Object.keys(signal).sort());
  t.same(Object.keys(rtcd.sdp).sort(), Object.keys(sdp).sort());
  t.same(Object.keys(rtcd.sfu).sort(), Object.keys(sfu).sort());
  t.same(Object.keys(rtcd.webrtc).sort(), Object.keys(webrtc).sort());
  t.equal(rtcd.WebRtcEndpoint, webrtc.WebRtcEndpoint);
  t.equal(rtcd.SfuServer, sfu.SfuServer);
  t.equal(rtcd.SfuRoomService, sfu.SfuRoomService);
  t.equal(rtcd.connectRoomService, signal.connectRoomService);
  t.equal(rtcd.SignalServer, signal.SignalServer);
  t.equal(rtcd.stun.decodeStunMessage, stun.decodeStunMessage);
  t.equal(rtcd.turn.TurnCore, turn.TurnCore);
});
