export function App() {
  return (
    <main className="placeholder">
      <h1>tdpviz</h1>
      <p>
        An interactive simulator of the x86 KVM TDP MMU. The simulation core and the headless runner
        are ready (<code>npm run sim -- FILE</code>); the visualizer comes next.
      </p>
    </main>
  );
}
