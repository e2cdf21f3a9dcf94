"""One panel a module. Widgets format what a StepView holds; they never
compute a number of the model themselves."""
