import type {
  ConnectRequest,
  DisconnectedRequest,
  MqttConnectRequest,
  MqttDisconnectedRequest,
  MqttUserEventRequest,
  UserEventRequest,
} from './web-pubsub-request.interface.js';

/** `true` (and the `mqtt` fields typed) when the connect event comes from an MQTT client. @publicApi */
export function isMqttConnectRequest(request: ConnectRequest): request is MqttConnectRequest {
  return request.context.clientProtocol === 'mqtt' && request.mqtt !== undefined;
}

/** `true` (and the `mqtt` fields typed) when the disconnected event comes from an MQTT client. @publicApi */
export function isMqttDisconnectedRequest(
  request: DisconnectedRequest,
): request is MqttDisconnectedRequest {
  return request.context.clientProtocol === 'mqtt' && request.mqtt !== undefined;
}

/** `true` (and `mqtt.userProperties` typed) when the user event comes from an MQTT client. @publicApi */
export function isMqttUserEventRequest(request: UserEventRequest): request is MqttUserEventRequest {
  return request.context.clientProtocol === 'mqtt' && request.mqtt !== undefined;
}
