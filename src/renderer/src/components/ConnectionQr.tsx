// The device's connection string as a QR code, for provisioning a device from a phone or a
// handheld: black on white whatever the theme (scanners want contrast), crisp module edges.
import { useMemo } from 'react'
import { qrShape } from '../lib/qr'

export function ConnectionQr ({ value, deviceId }: { value: string; deviceId: string }) {
  const qr = useMemo(() => qrShape(value), [value])
  return (
    <figure className="qr" data-testid="connection-qr-figure">
      <svg viewBox={`0 0 ${qr.size} ${qr.size}`} className="qr-code" role="img" shapeRendering="crispEdges"
        aria-label={`QR code of the connection string of ${deviceId}`} data-testid="connection-qr" data-modules={qr.modules}>
        <rect x={0} y={0} width={qr.size} height={qr.size} fill="#ffffff" />
        <path d={qr.path} fill="#000000" />
      </svg>
      <figcaption className="small muted">Scan to copy the connection string (it contains the device key: keep it out of sight of others).</figcaption>
    </figure>
  )
}
