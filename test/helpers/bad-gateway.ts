/**
 * A misbehaving UPnP gateway, run as its own process in the gateway
 * namespace: `node bad-gateway.js LAN_IP MODE_FILE`. It speaks real SSDP (it
 * joins 239.255.255.250 on the LAN address and answers M-SEARCH on UDP 1900)
 * and HTTP on port 5000, and misbehaves as the mode file says at each request:
 *
 *   garbage-ssdp  answers M-SEARCH with bytes that are not an SSDP answer
 *   garbage-soap  a valid description; the control URL answers HTTP 200 with no SOAP response
 *   refuse        a valid description; every action gets a SOAP fault, UPnP error 718
 *   silent        a valid description; the control URL accepts the connection and never answers
 */
import dgram from 'node:dgram'
import { readFileSync } from 'node:fs'
import http from 'node:http'

const [lanIp, modeFile] = process.argv.slice(2) as [string, string]
const mode = (): string => readFileSync(modeFile, 'utf8').trim()

const DESCRIPTION = `<?xml version="1.0"?>
<root xmlns="urn:schemas-upnp-org:device-1-0"><device><deviceType>urn:schemas-upnp-org:device:InternetGatewayDevice:1</deviceType>
<deviceList><device><deviceType>urn:schemas-upnp-org:device:WANDevice:1</deviceType><deviceList><device>
<deviceType>urn:schemas-upnp-org:device:WANConnectionDevice:1</deviceType><serviceList><service>
<serviceType>urn:schemas-upnp-org:service:WANIPConnection:1</serviceType><serviceId>urn:upnp-org:serviceId:WANIPConn1</serviceId>
<controlURL>/ctl/IPConn</controlURL><SCPDURL>/WANIPCn.xml</SCPDURL></service></serviceList></device></deviceList></device></deviceList>
</device></root>`

const FAULT = `<?xml version="1.0"?>
<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><s:Fault><faultcode>s:Client</faultcode>
<faultstring>UPnPError</faultstring><detail><UPnPError xmlns="urn:schemas-upnp-org:control-1-0">
<errorCode>718</errorCode><errorDescription>ConflictInMappingEntry</errorDescription></UPnPError></detail></s:Fault></s:Body></s:Envelope>`

const server = http.createServer((req, res) => {
  req.resume()
  req.on('end', () => {
    if (req.url === '/rootDesc.xml') {
      res.writeHead(200, { 'content-type': 'text/xml' })
      res.end(DESCRIPTION)
      return
    }
    const m = mode()
    if (m === 'silent') return // holds the connection, never answers
    if (m === 'refuse') {
      res.writeHead(500, { 'content-type': 'text/xml' })
      res.end(FAULT)
      return
    }
    res.writeHead(200, { 'content-type': 'text/xml' })
    res.end('<html><body>router admin login</body></html>')
  })
})
server.listen(5000, lanIp)

const ssdp = dgram.createSocket({ type: 'udp4', reuseAddr: true })
ssdp.on('message', (msg, rinfo) => {
  if (!msg.toString('latin1').startsWith('M-SEARCH')) return
  const answer =
    mode() === 'garbage-ssdp'
      ? Buffer.from('HELLO\r\n\x00\x01\x02 not ssdp at all')
      : Buffer.from(
          `HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=120\r\nST: urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\n` +
            `USN: uuid:bad-gateway::urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\nEXT:\r\nSERVER: test UPnP/1.1\r\n` +
            `LOCATION: http://${lanIp}:5000/rootDesc.xml\r\n\r\n`
        )
  ssdp.send(answer, rinfo.port, rinfo.address)
})
ssdp.bind(1900, () => {
  ssdp.addMembership('239.255.255.250', lanIp)
  process.stdout.write('bad gateway ready\n')
})
process.on('SIGTERM', () => process.exit(0))
