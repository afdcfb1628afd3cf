// A piece of the agent with a life of its own (poll loop, availability, safety, readings, …): built with its
// collaborators passed in, started once connected, stopped in reverse order.
export interface Feature {
  readonly name: string;
  start(): Promise<void>;
  /**
   * Publish again what this feature owns, after a (re)connect. Runs beside the other features' and never
   * holds up availability: a slow or failing one only delays itself.
   */
  announce?(): Promise<void>;
  /**
   * After a reconnect, before anything is announced: make sure what this feature listens to is subscribed
   * (the session is clean, and the client re-subscribes by itself only after its offline queue), so that
   * "online" means commands are taken.
   */
  resubscribe?(): Promise<void>;
  stop(): Promise<void>;
}
