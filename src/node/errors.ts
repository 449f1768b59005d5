import { defineCodes } from '../kernel/errors.js'

export const NodeErrors = defineCodes({
  NODE_LOCKED: {
    status: 409,
    doc: 'Thrown when another running node holds this home folder (its LOCK file names a live process).'
  },
  NODE_NOT_RUNNING: {
    status: 503,
    doc: 'Thrown when a command needs the running node and none answers for this home.'
  },
  NODE_API_ERROR: {
    status: 502,
    doc: 'Thrown when the local API answers with something that is not a Conclave response.'
  },
  NODE_FILE_INVALID: {
    status: 500,
    doc: 'Thrown at start when a file the node keeps in its home (conversations.json) cannot be read or is malformed; the file is left as it is.'
  },
  NODE_RELAY_ONLY: {
    status: 409,
    doc: 'Thrown at start when the home keeps public keys only (it joined as a relay) but the node is asked to run with the access role: it could open no conversation or archive. Run it with --role relay, or join again with an invite for an access device.'
  },
  NODE_STORE_FAILED: {
    status: 500,
    doc: 'Thrown when the on-disk store cannot be opened; the path and cause are included.'
  },
  NODE_RECOVERY_NO_CLUSTER: {
    status: 404,
    doc: 'Thrown by the first run of a recovered home when no device of the account answered in time: the words or the passphrase may be wrong, or no other device is online. Nothing is created; the home stays marked recovered.'
  },
  NODE_RECOVERY_NEEDS_ROOT: {
    status: 409,
    doc: 'Thrown when a recovered home does not keep the seed (recover --no-keep-root): the new writer epoch needs a root-signed certificate.'
  },
  NODE_RECOVERY_REVOKED: {
    status: 409,
    doc: 'Thrown when the device being recovered was revoked in the cluster; recover another device index.'
  },
  NODE_RECOVERY_FAILED: {
    status: 503,
    doc: 'Thrown when recovery found the cluster but could not finish: no device appended the new certificate, a download stalled, or a step (opening or closing a store, the cluster log admitting the new writer) did not finish within its limit, named in the message (docs/recovery.md, "Time limits and progress"); running again resumes.'
  },
  NODE_ADDRESS_INVALID: {
    status: 400,
    doc: 'Thrown when a peer address is not `host:port` with an IPv4 literal, a bracketed IPv6 literal or a DNS/.onion name and a port 1-65535, or a peer key is not 32 bytes.'
  },
  NODE_LISTEN_FAILED: {
    status: 500,
    doc: 'Thrown when the direct transport cannot bind its TCP port (in use, not permitted, no such address) or already listens.'
  },
  NODE_DIAL_FAILED: {
    status: 502,
    doc: 'Thrown when a direct dial fails: the address is unreachable or refuses, the attempt times out, the Noise handshake fails or the peer breaks the transport preamble.'
  },
  NODE_PEER_KEY_MISMATCH: {
    status: 502,
    doc: 'Thrown when the peer reached at an address authenticates with another Noise key than the one expected there; nothing is replicated.'
  },
  NODE_PEER_NOT_ALLOWED: {
    status: 403,
    doc: "Thrown when a direct dial targets a key this device's firewall does not admit (checked before dialing and again after the handshake)."
  },
  NODE_PEER_REFUSED: {
    status: 502,
    doc: "Thrown when a dialed peer completed the Noise handshake but closed before accepting: its firewall does not admit this device's key."
  },
  NODE_NOT_DURABLE: {
    status: 504,
    doc: 'Thrown when an append (a conversation message) was stored on this device but fewer nodes than the requested copies held it before the timeout. It is not lost and must not be sent again: it replicates when another device connects. `data` carries the entry (`writer`, `length`, `seq`), `copies`, `target`, `holders` and `stored: true`.'
  },
  NODE_SOCKS_FAILED: {
    status: 502,
    doc: 'Thrown when a dial through the SOCKS5 proxy fails before the tunnel opens: the proxy is unreachable, refuses our authentication, or replies that it cannot reach the peer (the reply is named).'
  },
  NODE_ARCHIVE_UNKNOWN: {
    status: 404,
    doc: 'Thrown when no archive with that id is recorded in the cluster view.'
  },
  NODE_ARCHIVE_NOT_HOLDER: {
    status: 403,
    doc: 'Thrown when an archive is opened on a device that is not one of its two holders (the message names them).'
  },
  NODE_ARCHIVE_HOLDER_OFFLINE: {
    status: 503,
    doc: 'Thrown when opening an archive waits for the other holder, which is not connected or does not answer in time; `data.waitingFor` names the device. Nothing is opened without it.'
  },
  NODE_ARCHIVE_REFUSED: {
    status: 403,
    doc: 'Thrown when the other holder refuses to peel its layer: the asking device is revoked or unknown, or the two are not the holders of that archive.'
  },
  NODE_ARCHIVE_INCOMPLETE: {
    status: 503,
    doc: 'Thrown when blocks of an archive core are neither here nor sent by a peer in time.'
  },
  NODE_ARCHIVE_NOT_OPEN: {
    status: 409,
    doc: "Thrown when an archive's messages are asked for while it is not open on this device (never opened, or closed after its idle time): open it again, with the other holder."
  },
  NODE_GATEWAY_NOT_FOUND: {
    status: 503,
    doc: 'Logged and shown in status (`windows.lastError`) when no UPnP IGD answers the SSDP search and no NAT-PMP gateway answers at the default route (or at the configured `windows.gateway`); the node keeps running without port windows.'
  },
  NODE_GATEWAY_INVALID: {
    status: 502,
    doc: 'Logged and shown in status when the gateway answers with something that is not the protocol: a malformed SSDP reply, description XML without a WAN connection service, a SOAP body without the expected response, a NAT-PMP reply of the wrong size, version or opcode, or a reply over the size limit.'
  },
  NODE_GATEWAY_REFUSED: {
    status: 502,
    doc: 'Logged and shown in status when the gateway understood a port-mapping request and refused it: a UPnP SOAP fault (`data.upnpError`, e.g. 718 ConflictInMappingEntry) or a NAT-PMP result code other than 0 (`data.result`).'
  },
  NODE_GATEWAY_TIMEOUT: {
    status: 504,
    doc: 'Logged and shown in status when the gateway does not answer a port-mapping request (HTTP or NAT-PMP retransmissions) in time.'
  }
})
