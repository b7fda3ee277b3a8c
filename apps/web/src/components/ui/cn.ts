// One place to join conditional class names, so every component composes classes the same way.
export { clsx as cn } from "clsx";
