/** The receiver of `npm run bench -- udp-send`: drains datagrams, reports its port over IPC. */
import { createSocket } from 'node:dgram';

const s = createSocket({ type: 'udp4', recvBufferSize: 8 << 20 });
s.on('message', () => {});
s.bind(0, '127.0.0.1', () => process.send?.(s.address().port));
process.on('disconnect', () => process.exit(0));
