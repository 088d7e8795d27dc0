"""autograd_nn.optim"""
