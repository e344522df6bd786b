import { tracingChannel } from 'node:diagnostics_channel';
import { CHANNELS } from '@pool/core';

/** The acquire tracing channel as core sees it, to time its `hasSubscribers` read alone. */
export const acquireChannel = tracingChannel(CHANNELS.acquire);
