// The device simulator as a library: tests, benchmarks and `sitehub simulate` build on this.
export { createSimulatedDevice, BAD_IMAGE_MARKER } from './device.js'
export type { SimEvent, SimulatedDevice, SimulatedDeviceOptions, SimulatedDeviceSnapshot } from './device.js'
export { createFleet } from './fleet.js'
export type { Fleet, FleetOptions, FleetStats } from './fleet.js'
export { downloadImage, DownloadError } from './download.js'
export { parseDeviceConnectionString } from './sdk.js'
